"""Bring work in and take it out: importers (curl, Postman, OpenAPI, HAR), the Postman exporter, ``runner init``.

Each format has one module that parses the foreign input into plain collection data;
``writer`` is the one YAML writer they share, ``secrets`` the one credential detector.
Nothing here is imported by the core; ``commands`` (click only) is what ``runner.cli`` adds.
"""
