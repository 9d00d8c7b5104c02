"""`grade batch`: grade every submission in a directory through the warm-worker pool, resumably."""

from grader.batch.entries import BatchError, Entry, discover
from grader.batch.progress import Progress, summary
from grader.batch.run import INTERRUPTED, JobSettings, default_state_dir, grade_all, run_batch, write_output
from grader.pool.store import Store

__all__ = ["BatchError", "Entry", "discover", "Progress", "summary", "INTERRUPTED", "JobSettings",
           "default_state_dir", "grade_all", "run_batch", "write_output", "Store"]
