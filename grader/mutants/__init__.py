"""Mutation analysis of the hidden checks (`grade validate --mutants`): generate, grade, sort.

`operators` turns one node of a correct solution into a plausible wrong one; `generate`
applies them to the reference and the scenarios' correct variants (stable ids, seeded
samples); `run` grades every mutant with one warm `Grader` and sorts them into killed,
named (and named wrongly: `fits`), equivalent and survived.
"""
