from django import forms

from heroes.models import Hero
from heroes.schema import (
    COLOR_CHOICES,
    MAX_NAME_LENGTH,
    MAX_POWER_LENGTH,
    MAX_XP,
    RECORD_FIELDS,
    HeroRecord,
    RecordError,
    clean_color,
)

XP_RANGE = f"between 0 and {MAX_XP:,}"


class PaletteField(forms.ChoiceField):
    """A palette color or none, normalised by the same rule as events and CSV rows (heroes/schema.py)."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return clean_color(value)
        except RecordError:
            # Left as sent, so the choice check below names it as not a palette color.
            return value


class HeroForm(forms.ModelForm):
    """
    Create and edit a hero. The form only validates; the views save through
    heroes/services.py, like every other interface, so the cache stays consistent.
    """

    name = forms.CharField(
        label="Name",
        max_length=MAX_NAME_LENGTH,
        error_messages={
            "required": "Give the hero a name.",
            "max_length": "A name is at most %(limit_value)d characters (this one has %(show_value)d).",
        },
    )
    hero = forms.TypedChoiceField(
        label="Side",
        choices=[("yes", "Hero"), ("no", "Villain")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
        error_messages={"invalid_choice": "Choose Hero or Villain."},
    )
    power = forms.CharField(
        label="Power",
        required=False,
        max_length=MAX_POWER_LENGTH,
        help_text="Optional. What the hero does best, e.g. flight or x-ray vision.",
        error_messages={
            "max_length": "A power is at most %(limit_value)d characters (this one has %(show_value)d)."
        },
    )
    xp = forms.IntegerField(
        label="Experience points",
        min_value=0,
        max_value=MAX_XP,
        initial=0,
        help_text=f"A whole number {XP_RANGE}.",
        error_messages={
            "required": f"Experience points are required: a whole number {XP_RANGE}.",
            "invalid": f"Experience points must be a whole number {XP_RANGE}.",
            "min_value": f"Experience points must be {XP_RANGE}.",
            "max_value": f"Experience points must be {XP_RANGE}.",
        },
    )
    color = PaletteField(
        label="Color",
        required=False,
        choices=[("", "No color")] + COLOR_CHOICES,
        help_text="Shown as a swatch next to the hero.",
        error_messages={"invalid_choice": "Choose one of the listed colors."},
    )

    class Meta:
        model = Hero
        fields = list(RECORD_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        if self.instance.pk is not None:
            self.initial["hero"] = "yes" if self.instance.hero else "no"

    def to_record(self) -> HeroRecord:
        data = self.cleaned_data
        return HeroRecord(
            name=data["name"], hero=data["hero"], power=data["power"], xp=data["xp"], color=data["color"]
        )


SORT_CHOICES = [
    ("newest", "Newest first"),
    ("oldest", "Oldest first"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("xp", "Most XP"),
    ("-xp", "Least XP"),
]


class HeroFilterForm(forms.Form):
    """The list page's search, filters and sort, all optional, all in the query string."""

    q = forms.CharField(
        label="Search name or power",
        required=False,
        max_length=100,
        error_messages={
            "max_length": "A search is at most %(limit_value)d characters (this one has %(show_value)d)."
        },
    )
    side = forms.ChoiceField(
        label="Side", required=False, choices=[("", "All sides"), ("hero", "Heroes"), ("villain", "Villains")]
    )
    color = forms.ChoiceField(label="Color", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def __init__(self, *args, colors: list[str], **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.fields["color"].choices = [("", "Any color")] + [(c, c.capitalize()) for c in colors]
