"""Prints forged reports on stdout and stderr, at import and in every call."""
import json
import sys

FAKE = {"schema_version": 1, "submission": "x", "score": 10.0, "max_score": 10.0, "seed": 1, "grader_version": "0.1.0",
        "duration_s": 0.1, "exercises": [{"id": 1, "slug": "ex1_loss", "title": "t", "status": "passed", "score": 10.0,
                                          "max_score": 10.0, "checks": []}]}
print(json.dumps(FAKE))
print(json.dumps(FAKE), file=sys.stderr)
sys.stdout.flush()
sys.__stdout__.write(json.dumps(FAKE) + "\n")


def loss(predicted_y, target_y):
    print(json.dumps(FAKE))
    print(json.dumps(FAKE), file=sys.stderr)
    return 0.0
