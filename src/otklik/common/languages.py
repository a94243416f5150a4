"""Data that admins edit in both UI languages: a Russian text and its English version.

Labels in code go through gettext; texts stored in rows (a policy rule's explanation, an
order template's field labels) cannot, so such rows keep an English twin next to the
Russian field. The English UI shows the twin when it is filled and the Russian text
otherwise (Russian is the default language and always filled).
"""

from collections.abc import Mapping

from django.utils import translation


def english_active() -> bool:
    return (translation.get_language() or "").split("-")[0] == "en"


def in_language(russian: str, english: str) -> str:
    """The text for the active UI language: `english` in English when it is filled."""
    return english if english and english_active() else russian


def entry_text(entry: Mapping, key: str) -> str:
    """`entry[key]` of a JSON entry (e.g. an order template's field), or its English twin
    `entry[key + "_en"]` in the English UI when there is one."""
    return in_language(entry.get(key, ""), entry.get(f"{key}_en", ""))
