from django import forms

from heroes.models import Hero
from heroes.schema import MAX_XP, HeroRecord


class HeroForm(forms.ModelForm):
    """
    Create and edit a hero. The form only validates; the views save through
    heroes/services.py, like every other interface, so the cache stays consistent.
    """

    hero = forms.TypedChoiceField(
        label="Side",
        choices=[("yes", "Hero"), ("no", "Villain")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )
    xp = forms.IntegerField(label="Experience points", min_value=0, max_value=MAX_XP, initial=0)

    class Meta:
        model = Hero
        fields = ["name", "hero", "power", "xp", "color"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["hero"] = "yes" if self.instance.hero else "no"

    def to_record(self) -> HeroRecord:
        data = self.cleaned_data
        return HeroRecord(name=data["name"], hero=data["hero"], power=data["power"], xp=data["xp"], color=data["color"])


class HeroFilterForm(forms.Form):
    """The list page's search, filters and sort, all optional, all in the query string."""

    q = forms.CharField(label="Search name or power", required=False, max_length=100)
    side = forms.ChoiceField(
        label="Side", required=False, choices=[("", "Heroes and villains"), ("hero", "Heroes"), ("villain", "Villains")]
    )
    color = forms.ChoiceField(label="Color", required=False)
    sort = forms.ChoiceField(
        label="Sort by", required=False, choices=[("newest", "Newest"), ("name", "Name"), ("xp", "Most XP")]
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def __init__(self, *args, colors: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["color"].choices = [("", "Any color")] + [(c, c) for c in colors]
