-- The returns report reads the units sold in the last days: the period's
-- orders by date, not every order of the merchant.
CREATE INDEX orders_by_date ON orders (merchant_id, placed_at);
