"""
The benchmark's sections, one module each, run in order by bench/__main__.py.

Each module has two functions:

    def run(plan, results: dict) -> dict
        Measure, and return what goes into results[<section name>]. ``plan`` is the runner's
        Plan (data set size, repetitions; --quick makes them small); ``results`` holds the
        sections run before, for those that compare with them.

    def targets(results: dict) -> list[tuple[str, float, str, float]]
        What the section is held to, from the whole run's results: (name, measured value,
        operator "<=", ">=" or "<", goal). Empty when it has none.
"""
