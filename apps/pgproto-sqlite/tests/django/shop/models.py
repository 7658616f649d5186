"""The shop: the field types the test covers (foreign keys, many-to-many, JSON, UUID,
decimal, aware datetimes)."""
import uuid

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)
    email = models.EmailField(blank=True)


class Tag(models.Model):
    label = models.SlugField(unique=True)


class Book(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(max_length=200, db_index=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    published_at = models.DateTimeField()
    extra = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="books")
    in_stock = models.BooleanField(default=True)
