from django.contrib import admin

from .models import Author, Book, Tag

admin.site.register([Author, Book, Tag])
