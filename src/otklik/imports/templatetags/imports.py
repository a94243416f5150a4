"""The «from the old desk» panel on the workspace case page: origin and files."""

from django import template

from otklik.imports.selectors import case_files, case_origin

register = template.Library()


@register.inclusion_tag("imports/_case_import_panel.html")
def imports_case_panel(case):
    origin = case_origin(case=case)  # one query on a case of our own
    return {"case": case, "origin": origin, "files": case_files(case=case) if origin else []}
