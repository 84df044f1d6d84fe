"""Planning: statements -> logical plans (:mod:`.logical`, built by :mod:`.builder`) -> operators
(:mod:`.physical`)."""
