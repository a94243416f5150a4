"""Procedures and FAQ (регламенты), their immutable versions, synonyms and the search index."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ArticleKind(models.TextChoices):
    PROCEDURE = "procedure", _("Procedure")
    FAQ = "faq", _("FAQ")


class Audience(models.TextChoices):
    INTERNAL = "internal", _("Staff only")
    CLIENT = "client", _("Clients only")
    BOTH = "both", _("Staff and clients")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Article(models.Model):
    """A procedure or FAQ entry; its text lives in versions, the published one is searchable.

    Applicability lists (product kinds, restriction kinds, channels) boost an article when a
    case matches them; `roles` limits which staff roles see it (empty: everyone).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ArticleKind.choices)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("document", "owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_articles",
    )
    review_by = models.DateField(_("review by"), null=True, blank=True)
    product_kinds = models.JSONField(_("product kinds"), default=list, blank=True)
    restriction_kinds = models.JSONField(_("restriction kinds"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    roles = models.JSONField(_("roles allowed"), default=list, blank=True)
    topics = models.ManyToManyField("cases.Topic", verbose_name=_("topics"), blank=True)
    related = models.ManyToManyField("self", verbose_name=_("related articles"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    published_version = models.ForeignKey(
        "ArticleVersion",
        verbose_name=_("published version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    """One immutable text of an article; editing creates the next number."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text (Markdown)"), blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    is_published = models.BooleanField(_("published"), default=False)
    note = models.CharField(_("change note"), max_length=300, blank=True)
    material = models.BooleanField(
        _("material change"),
        default=False,
        help_text=_("Published as a material change: the affected roles must acknowledge it."),
    )
    # Sentence vector of the text for the semantic search (float16 bytes, see
    # knowledge/semantic.py), computed by the re-index job when the version is published.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class Synonym(models.Model):
    """Interchangeable terms editors maintain, e.g. ИИС ↔ индивидуальный инвестиционный счёт."""

    terms = models.JSONField(_("terms"), default=list)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["id"]

    def __str__(self) -> str:
        return " = ".join(self.terms)


class ArticleSearchDoc(models.Model):
    """The searchable form of a published article: space-separated lemma tokens per field.

    `lemmas` joins all fields; PostgreSQL keeps a GIN index on to_tsvector('simple', lemmas).
    Applicability and audience are copied here so ranking needs no joins.
    """

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="search_doc"
    )
    slug = models.CharField(max_length=120)
    kind = models.CharField(max_length=16)
    audience = models.CharField(max_length=16)
    title = models.CharField(max_length=300)
    steps_text = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    title_lemmas = models.TextField(blank=True)
    steps_lemmas = models.TextField(blank=True)
    body_lemmas = models.TextField(blank=True)
    lemmas = models.TextField(blank=True)
    title_len = models.PositiveIntegerField(default=0)
    steps_len = models.PositiveIntegerField(default=0)
    body_len = models.PositiveIntegerField(default=0)
    product_kinds = models.JSONField(default=list)
    restriction_kinds = models.JSONField(default=list)
    channels = models.JSONField(default=list)
    roles = models.JSONField(default=list)
    topic_ids = models.JSONField(default=list)
    indexed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.slug


class SearchIndexState(models.Model):
    """One row; `generation` is a fresh random token on every index or synonym change.

    A token rather than a counter: after a rolled-back transaction a counter would repeat a
    value whose cached index no longer matches the rows.
    """

    generation = models.CharField(max_length=32, default="")

    def __str__(self) -> str:
        return self.generation


class CasePin(models.Model):
    """An operator pinned a procedure to a case: it resolved (or is resolving) the case.

    Pins are what editors count to see which procedures actually resolve cases.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="knowledge_pins")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="pins")
    version = models.ForeignKey(
        ArticleVersion, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("pinned"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("pinned procedure")
        verbose_name_plural = _("pinned procedures")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "article"], name="case_pin_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.article_id}"


class ArticleUse(models.Model):
    """«I used this»: an operator applied the procedure after a case (with or without a pin)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="uses")
    version = models.ForeignKey(
        ArticleVersion, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(
        pgettext_lazy("procedure", "used"), auto_now_add=True, db_index=True
    )

    class Meta:
        verbose_name = _("procedure use")
        verbose_name_plural = _("procedure uses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} used {self.article_id}"


class Acknowledgement(models.Model):
    """A staff member must confirm having read a published (or materially changed) procedure.

    One row per (version, user); `acknowledged_at` empty means still pending.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="acks")
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="acks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="knowledge_acks"
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="ack_once_per_version"),
        ]
        indexes = [models.Index(fields=["user", "acknowledged_at"], name="ack_user_pending")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.version}"


class RefresherRun(models.Model):
    """One row per refresher period (ISO week); its unique key lets one worker claim it."""

    period = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.period


class RefresherDigest(models.Model):
    """A team's short list of rarely used procedures to reread this period."""

    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, related_name="knowledge_refreshers"
    )
    period = models.CharField(_("period"), max_length=16)
    articles = models.ManyToManyField(Article, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("refresher")
        verbose_name_plural = _("refreshers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "period"], name="refresher_team_period"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.period}"


class RefresherRead(models.Model):
    """An operator marked a refresher as read."""

    digest = models.ForeignKey(RefresherDigest, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest", "user"], name="refresher_read_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.digest_id}"
