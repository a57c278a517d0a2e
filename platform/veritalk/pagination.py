"""Page-number pagination for every API list: `?page=N`, and `?page_size=N` up to 100.
The default size is read from the settings on each request."""
from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        self.page_size = settings.REST_FRAMEWORK.get("PAGE_SIZE") or 25
        return super().get_page_size(request)
