"""The chapters' explorables: one module per chapter, ``course_pkg/explore/chapters/<chapter>.py``.

Each module declares its figures with the framework (:class:`course_pkg.explore.Explorable` and the parameter
grids) and lists their factories in ``EXPLORABLES``. Nothing here is listed by hand:
:func:`course_pkg.explore.all_explorables` finds every module of this package (those whose name starts with ``_``
excepted), and a chapter imports its module by name::

    from course_pkg.explore.chapters import momentum as momentum_explore
"""
