"""The judge: the trusted process that computes references and decides scores.

It never imports student code. It asks the runner (a separate, limited
process) to call the student's functions, gets plain data back, and runs the
exercise's hidden pytest checks over it.
"""
