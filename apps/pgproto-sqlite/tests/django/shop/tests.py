"""Creates, queries and updates the shop's objects through the ORM (run by Django's test
runner, which creates and drops the database test_postgres)."""
import datetime
import uuid
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, Sum
from django.test import TestCase

from .models import Author, Book, Tag

UTC = datetime.timezone.utc


class ShopTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ann = Author.objects.create(name="Ann", email="ann@example.com")
        cls.bob = Author.objects.create(name="Bob")
        cls.red = Tag.objects.create(label="red")
        cls.blue = Tag.objects.create(label="blue")
        cls.when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
        cls.b1 = Book.objects.create(
            author=cls.ann, title="One", price=Decimal("12.50"),
            published_at=cls.when, extra={"pages": 100, "colors": ["red"]},
        )
        cls.b2 = Book.objects.create(
            author=cls.ann, title="Two", price=Decimal("7.25"),
            published_at=cls.when + datetime.timedelta(days=1), extra={},
        )
        cls.b1.tags.add(cls.red, cls.blue)
        cls.b2.tags.add(cls.blue)

    def test_values_round_trip(self):
        b = Book.objects.get(pk=self.b1.pk)
        self.assertIsInstance(b.pk, uuid.UUID)
        self.assertEqual(b.price, Decimal("12.50"))
        self.assertEqual(b.published_at, self.when)
        self.assertEqual(b.published_at.tzinfo, UTC)
        self.assertEqual(b.extra, {"pages": 100, "colors": ["red"]})
        self.assertTrue(b.in_stock)

    def test_foreign_keys_and_many_to_many(self):
        self.assertEqual(
            list(Book.objects.filter(author__name="Ann").order_by("title").values_list("title", flat=True)),
            ["One", "Two"],
        )
        self.assertEqual(
            sorted(t.label for t in self.b1.tags.all()), ["blue", "red"]
        )
        self.assertEqual(
            list(Book.objects.filter(tags__label="blue").order_by("title").values_list("title", flat=True)),
            ["One", "Two"],
        )
        counts = dict(Author.objects.annotate(n=Count("books")).values_list("name", "n"))
        self.assertEqual(counts, {"Ann": 2, "Bob": 0})
        self.assertEqual(Book.objects.aggregate(s=Sum("price"))["s"], Decimal("19.75"))

    def test_filters(self):
        self.assertEqual(Book.objects.filter(published_at__gt=self.when).get().title, "Two")
        self.assertEqual(Book.objects.filter(price__lt=Decimal("10")).get().title, "Two")
        self.assertEqual(Book.objects.filter(title__startswith="O").get().title, "One")
        self.assertEqual(Book.objects.filter(title__icontains="w").get().title, "Two")
        self.assertEqual(Book.objects.get(pk=self.b2.pk).title, "Two")

    def test_updates_and_deletes(self):
        Book.objects.filter(pk=self.b2.pk).update(price=Decimal("8.00"), in_stock=False)
        b = Book.objects.get(pk=self.b2.pk)
        self.assertEqual((b.price, b.in_stock), (Decimal("8.00"), False))
        b.extra = {"note": "sale", "n": [1, 2]}
        b.save()
        self.assertEqual(Book.objects.get(pk=self.b2.pk).extra, {"note": "sale", "n": [1, 2]})
        self.b1.tags.remove(self.red)
        self.assertEqual(self.red.books.count(), 0)
        self.ann.delete()
        self.assertEqual(Book.objects.count(), 0)

    def test_contrib_auth(self):
        u = User.objects.create_user("carol", password="pw")
        self.assertTrue(self.client.login(username="carol", password="pw"))
        self.assertEqual(User.objects.get(username="carol").pk, u.pk)
