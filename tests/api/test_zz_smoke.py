from tests.api.conftest import fields
from tests.factories import ClientFactory, make_case, make_product

def test_smoke(cast, api):
    c = ClientFactory(); make_product(c, "card")
    case = make_case(actor=cast.alice, client=c)
    a = api(cast.alice)
    for p in ["/api/clients", f"/api/clients/{c.pk}", f"/api/clients/{c.pk}/products", "/api/cases", f"/api/cases/{case.pk}", f"/api/cases/{case.pk}/messages", f"/api/cases/{case.pk}/events", "/api/interactions", "/api/topics", f"/api/cases/{case.pk}/transitions", "/api/clients?q=Клиент"]:
        r = a.get(p); print(p, r.status_code, r.content[:300])
    r = a.post("/api/cases", {"client_id": c.pk, "subject": "", "channel": "fax", "priority": 9}); print(r.status_code, r.json())
    r = a.post("/api/cases", {"client_id": c.pk, "subject": "", "channel": "phone"}); print(r.status_code, r.json())
    r = a.post("/api/cases", {"client_id": c.pk, "subject": "x", "channel": "phone"}, key="k1"); print(r.status_code, r.json())
    r = a.post("/api/cases", {"client_id": c.pk, "subject": "x", "channel": "phone"}, key="k1"); print(r.status_code, r.json(), r.headers)
    r = a.post(f"/api/cases/{case.pk}/transition", {"status": "closed"}); print(r.status_code, r.json())
    r = a.post(f"/api/clients/{c.pk}/products", {"kind": "card", "name": "x", "details": {"pan": "1234567890123456", "payment_system": "Mir", "level": "x", "expires": "12/29"}}); print(r.status_code, r.json())
    r = a.http.post("/api/cases", "{bad", content_type="application/json"); print(r.status_code, r.content)
    r = a.get("/api/cases", {"page_size": 1000}); print(r.status_code, r.json())
    r = a.get("/api/cases/99999999999999999999"); print(r.status_code, r.content)
