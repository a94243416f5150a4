"""Clients and products from another desk's CSV: per-line report, all or nothing, resumable."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from otklik.clients.models import Client, Product
from otklik.imports import csv_import
from otklik.imports.models import ImportedRecord

pytestmark = pytest.mark.django_db

CLIENTS = """external_id,last_name,first_name,patronymic,birth_date,segment,phones,emails
c-1,Иванова,Мария,Петровна,1985-04-12,premium,+7 912 111-22-33,maria@example.com
c-2,Петров,Олег,,1979-11-02,mass,8 (903) 555-44-11;+79035554412,
c-3,Сидоров,Илья,Андреевич,,,,ilya@example.com
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_is_imported_and_a_rerun_adds_nothing(tmp_path):
    path = _write(tmp_path, "clients.csv", CLIENTS)
    report = csv_import.import_clients(path)
    assert report.ok and (report.created, report.skipped) == (3, 0)
    maria = Client.objects.get(last_name="Иванова")
    assert maria.segment == "premium" and str(maria.birth_date) == "1985-04-12"
    assert set(maria.contacts.values_list("value", flat=True)) == {
        "+79121112233",
        "maria@example.com",
    }
    assert Client.objects.get(last_name="Петров").contacts.count() == 2

    again = csv_import.import_clients(path)
    assert (again.created, again.skipped) == (0, 3)
    assert Client.objects.count() == 3


def test_bad_lines_are_reported_by_number_and_nothing_is_applied(tmp_path):
    bad = CLIENTS + ("c-4,,Анна,,12.03.1990,vip,12345,anna-at-example\nc-1,Дубль,Иван,,,,,\n")
    report = csv_import.import_clients(_write(tmp_path, "clients.csv", bad))
    assert not report.ok
    by_line = {e.line: e.errors for e in report.errors}
    assert set(by_line) == {5, 6}
    line5 = " ".join(by_line[5])
    for expected in ("last_name is empty", "birth_date", "segment", "12345", "anna-at-example"):
        assert expected in line5
    assert "repeats line 2" in by_line[6][0]
    assert Client.objects.count() == 0 and ImportedRecord.objects.count() == 0


def test_a_run_cut_off_midway_resumes_after_the_last_batch(tmp_path, monkeypatch):
    rows = ["external_id,last_name,first_name,phones"]
    rows += [f"x-{i},Клиент{i},Имя,+7 900 000-{i:02d}-00" for i in range(10)]
    path = _write(tmp_path, "clients.csv", "\n".join(rows) + "\n")
    real_create = csv_import.client_create
    calls = {"n": 0}

    def crashing_create(**kwargs):
        calls["n"] += 1
        if calls["n"] == 7:  # the process dies in the middle of the second batch
            raise KeyboardInterrupt
        return real_create(**kwargs)

    monkeypatch.setattr(csv_import, "client_create", crashing_create)
    with pytest.raises(KeyboardInterrupt):
        csv_import.import_clients(path, batch=4)
    # The first batch is in whole; the second one left nothing behind.
    assert Client.objects.count() == 4 and ImportedRecord.objects.count() == 4

    monkeypatch.setattr(csv_import, "client_create", real_create)
    seen = []
    report = csv_import.import_clients(path, batch=4, progress=lambda d, t: seen.append((d, t)))
    assert (report.created, report.skipped) == (6, 4)
    assert Client.objects.count() == 10
    assert seen[-1] == (10, 10)


def test_products_follow_their_clients_by_external_id(tmp_path):
    csv_import.import_clients(_write(tmp_path, "clients.csv", CLIENTS))
    products = (
        "external_id,client_external_id,kind,name,number,status,opened_on,details\n"
        "p-1,c-1,bank_account,Текущий счёт,40817810000000000001,active,2020-01-15,{}\n"
        "p-2,c-9,bank_account,Чужой счёт,,active,,{}\n"
        "p-3,c-2,spaceship,Звездолёт,,active,,{}\n"
        "p-1,c-2,bank_account,Второй p-1,,active,,{}\n"
        ",c-2,bank_account,Без номера,,active,,{}\n"
    )
    report = csv_import.import_products(_write(tmp_path, "products.csv", products))
    assert {e.line for e in report.errors} == {3, 4, 5, 6}
    assert "unknown client c-9" in report.errors[0].errors
    # The same external-id rule as for clients (one validator serves both files).
    assert report.errors[2].errors == ["external_id p-1 repeats line 2"]
    assert report.errors[3].errors == ["external_id is empty"]
    assert Product.objects.count() == 0

    ok = "\n".join(products.splitlines()[:2]) + "\n"
    report = csv_import.import_products(_write(tmp_path, "products-ok.csv", ok))
    assert report.ok and report.created == 1
    product = Product.objects.get()
    assert product.client.last_name == "Иванова" and str(product.opened_on) == "2020-01-15"


def test_the_command_prints_each_bad_line_and_a_progress_bar(tmp_path, capsys):
    path = _write(tmp_path, "clients.csv", CLIENTS + "c-5,,,,,,,\n")
    with pytest.raises(CommandError, match="1 bad line"):
        call_command("import_desk", "clients", str(path))
    assert "line 5:" in capsys.readouterr().err
    good = _write(tmp_path, "good.csv", CLIENTS)
    call_command("import_desk", "clients", str(good))
    captured = capsys.readouterr()
    assert "3 imported" in captured.out
    assert "[" + "#" * 30 + "] 3/3" in captured.err
