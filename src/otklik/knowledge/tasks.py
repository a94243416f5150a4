"""Background tasks of the knowledge base: thin wrappers around the index services."""

from django.tasks import task

from otklik.knowledge import services


@task
def reindex_article(article_id: int) -> bool:
    """Re-index one article after it was published, changed or archived."""
    return services.search_index_update(article_id=article_id)
