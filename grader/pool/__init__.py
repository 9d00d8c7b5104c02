"""The warm-worker pool shared by `grade batch`, `grade serve` and the notebook helper, and its report store."""

from grader.pool.workers import Job, Pool, PoolClosed, Worker, WorkerLost, WorkerTimeout, job_timeout

__all__ = ["Job", "Pool", "PoolClosed", "Worker", "WorkerLost", "WorkerTimeout", "job_timeout"]
