from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="registryentry", name="manifest_id",
                            field=models.CharField(blank=True, db_index=True, max_length=128)),
        migrations.AddField(model_name="registryentry", name="manifest_store",
                            field=models.BinaryField(blank=True, null=True)),
        migrations.AddField(model_name="registryentry", name="fingerprint",
                            field=models.JSONField(blank=True, null=True)),
        migrations.AddField(model_name="registryentry", name="poster",
                            field=models.CharField(blank=True, max_length=255)),
        migrations.AddField(model_name="registryentry", name="poster_sha256",
                            field=models.CharField(blank=True, db_index=True, max_length=64)),
    ]
