from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("heroes", "0005_hero_palette"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="prefix",
            field=models.CharField(blank=True, editable=False, max_length=8, verbose_name="key prefix"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="last_used_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last used"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="revoked"),
        ),
    ]
