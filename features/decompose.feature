Feature: Decomposing a project into subplans
  Files are clustered by directory, then extension, then even chunks, into a deterministic tree
  whose leaves hold at most max_files_per_subplan files (unless max_depth stops the split).

  Scenario: a small project stays one subplan
    Given 40 files in one directory
    When they are decomposed
    Then the root is a single leaf
    And every file is in exactly one leaf

  Scenario: a realistic layout becomes a bounded, deterministic tree
    Given 20000 files in 12 directories of 5 subdirectories each
    When they are decomposed with max_files_per_subplan=50, min_files_per_subplan=5
    Then every file is in exactly one leaf
    And no leaf holds more than 50 files
    And no leaf holds fewer than 5 files
    And the tree is 4 levels deep
    And decomposing them again in another order gives the same tree

  Scenario: max_depth stops the split even when a leaf stays big
    Given 6000 files in 12 directories of 5 subdirectories each
    When they are decomposed with max_files_per_subplan=50, max_depth=1
    Then the tree is 1 levels deep
    And the tree has 12 leaves
    And every file is in exactly one leaf

  Scenario: one directory with too many files splits by extension, then into even chunks
    Given the files
      | path       |
      | lib/a.py   |
      | lib/b.py   |
      | lib/c.py   |
      | lib/d.md   |
      | lib/e.md   |
      | lib/f.md   |
      | lib/g.md   |
    When they are decomposed with max_files_per_subplan=3, min_files_per_subplan=1
    Then the leaves are labelled .md (1/2); .md (2/2); .py
    And no leaf holds more than 3 files
    And every file is in exactly one leaf

  Scenario: the non-progress guard moves on to the next strategy instead of looping
    Given 120 files in one directory
    When they are decomposed with max_files_per_subplan=50, min_files_per_subplan=1
    Then the leaves are labelled part 1/3; part 2/3; part 3/3
    And no leaf holds more than 50 files

  Scenario: clusters smaller than the minimum merge with a neighbour
    Given the files
      | path        |
      | a/1.py      |
      | a/2.py      |
      | a/3.py      |
      | b/1.py      |
      | c/1.py      |
      | c/2.py      |
      | c/3.py      |
      | c/4.py      |
    When they are decomposed with max_files_per_subplan=4, min_files_per_subplan=2
    Then the leaves are labelled a + b; c
    And every file is in exactly one leaf

  Scenario: files at a directory's own level form their own cluster
    Given the files
      | path          |
      | README.md     |
      | setup.py      |
      | src/a.py      |
      | src/b.py      |
    When they are decomposed with max_files_per_subplan=2, min_files_per_subplan=1
    Then the leaves are labelled *; src

  Scenario: the token budget splits a cluster of few but large files
    Given the files
      | path      | bytes  |
      | big/a.py  | 400000 |
      | big/b.py  | 400000 |
      | big/c.py  | 10     |
    When they are decomposed with max_files_per_subplan=50, max_tokens_per_subplan=120000, min_files_per_subplan=1
    Then every file is in exactly one leaf
    And the tree has 3 leaves

  Scenario: the flat strategy goes straight to even chunks
    Given 6000 files in 12 directories of 5 subdirectories each
    When they are decomposed with strategy=flat, max_files_per_subplan=1000
    Then the tree has 6 leaves
    And the tree is 1 levels deep

  Scenario: the extension strategy skips directories
    Given the files
      | path     |
      | x/a.py   |
      | y/b.py   |
      | x/c.md   |
    When they are decomposed with strategy=extension, max_files_per_subplan=2, min_files_per_subplan=1
    Then the leaves are labelled .md; .py

  Scenario: when merging small clusters would undo every split, the node stays one leaf
    Given 60 files in one directory
    When they are decomposed with max_files_per_subplan=50, min_files_per_subplan=40
    Then the root is a single leaf
    And every file is in exactly one leaf
