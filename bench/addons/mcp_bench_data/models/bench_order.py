from odoo import fields, models


class BenchOrder(models.Model):
    _name = "mcp.bench.order"
    _description = "Benchmark order"

    name = fields.Char(required=True)
    partner_id = fields.Many2one("res.partner", index=True)
    date_order = fields.Datetime(index=True)
    state = fields.Selection(
        [
            ("draft", "Quotation"),
            ("sent", "Quotation sent"),
            ("sale", "Sales order"),
            ("done", "Locked"),
            ("cancel", "Cancelled"),
        ],
        default="draft",
    )
    amount_total = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency")
    company_id = fields.Many2one("res.company", index=True)
