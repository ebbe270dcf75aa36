from django.db import models


class Order(models.Model):
    customer = models.EmailField()
    total = models.DecimalField(max_digits=10, decimal_places=2)
    invoice_number = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"order {self.pk} for {self.customer}"
