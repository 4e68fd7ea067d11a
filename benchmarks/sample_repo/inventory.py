"""The shop's inventory: items with a price and a quantity."""

from dataclasses import dataclass

TAX_RATE = 0.2


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0


class Inventory:
    def __init__(self):
        self.items = {}

    def add_item(self, item):
        self.items[item.name] = item

    def remove_item(self, name):
        del self.items[name]

    def total_value(self):
        return sum(i.price * i.quantity for i in self.items.values())
