"""Due timeouts of the order flow, applied by ``bonafide serve``'s scheduler and ``bonafide tick``.

(Filled in by the order flow: ``tick(new_uow, *, settings, now) -> dict[str, int]``.)
"""
