from django.urls import path

from . import views

app_name = "blog"

urlpatterns = [
    path("", views.post_list, name="post_list"),
    path("page/<int:page>/", views.post_list, name="post_list_page"),
    path("archives/", views.archive_index, name="archive_index"),
    path("archives/<int:pk>/", views.post_detail, name="post_detail"),
    path("archives/<int:pk>/read", views.post_read, name="post_read"),
    path("archives/<int:year>/<int:month>/", views.archive_month, name="archive_month"),
    path("series/", views.series_index, name="series_index"),
    path("series/<str:slug>/", views.series_detail, name="series_detail"),
    path("category/<str:slug>/", views.category_detail, name="category_detail"),
    path("tag/<str:slug>/", views.tag_detail, name="tag_detail"),
    path("search/", views.search, name="search"),
]
