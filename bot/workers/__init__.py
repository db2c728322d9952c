"""``run``'s worker processes: ``pool`` (in ``run``: start, wake, watch, stop) and ``child``
(each worker process's own loop)."""
