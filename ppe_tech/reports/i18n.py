"""Labels of the report templates in Russian and English (templates read them as ``t.NAME``)."""

from __future__ import annotations

import re
from typing import Any

LANGS = ("ru", "en")

LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "form": "Форма",
        "see_data": "подробности — в приложении results.json",
        "incomplete": "неполный",
        "incomplete_note": "Документ неполный",
        "col_start": "Начало действия",
        "col_end": "Окончание действия",
        "log_entry_no": "запись журнала №",
        "log_entries_in_extract": "Записей журнала в выписке",
        "start_end_one_row": "начало и окончание действия — две записи журнала в одной строке: {n}",
        "outside_extract": "остальные {n} — вне периода выписки",
        "log_signatures_note": (
            "Графы «Подпись» заполняются от руки; выписка в целом подписана электронной подписью "
            "технического специалиста."
        ),
        "summary": "Итог проверки",
        "failed_critical": "Не выполнены критичные пункты",
        "failed_cameras": "Неисправные камеры",
        "not_checked": "не проверялось",
        "checked_by": "Проверку провёл",
        "zone_auditorium": "аудитория",
        "zone_corridor": "коридор",
        "zone_entrance": "вход",
        "zone_staff-room": "штаб ППЭ",
        "archive_medium": "Носитель",
        "medium_label": "метка",
        "medium_serial": "серийный номер",
        "medium_unknown": "не определён (вписать от руки)",
        "bag_name": "Архив (папка BagIt)",
        "keep_until": "Хранить до",
        "handed_over": "Передал",
        "received": "Получил",
        "archive_id": "Архив №",
        "readiness_title": "Протокол технической готовности пункта проведения экзамена",
        "act_title": "Акт готовности пункта проведения экзамена",
        "room_title": "Протокол технической готовности аудитории",
        "staff_room_title": "Протокол технической готовности Штаба ППЭ",
        "room_number": "Номер аудитории",
        "station": "Станция",
        "station_role": "Назначение",
        "how_checked": "Как проверено",
        "how_station run": "автоматически (проверка на станции)",
        "how_by hand": "вручную",
        "state_passed": "готова",
        "state_confirmed": "подтверждена вручную",
        "state_failed": "не готова",
        "state_stale": "проверка устарела",
        "state_not-checked": "не проверялась",
        "cam_not-verified": "не проверялась",
        "room_ready": "Аудитория готова к проведению экзамена",
        "room_not_ready": "Аудитория не готова к проведению экзамена",
        "no_stations": "станции в этом помещении не указаны",
        "act_intro": (
            "Настоящий акт составлен по результатам проверки готовности ППЭ к проведению "
            "экзамена, выполненной не позднее чем за день до экзамена."
        ),
        "cameras_ok": "исправны {ok} из {total}",
        "act_conclusion_ready": "ППЭ готов к проведению экзамена.",
        "act_conclusion_not_ready": "ППЭ не готов к проведению экзамена: см. пункты выше.",
        "archive_title": "Акт архивирования видеозаписей (копирование на внешний носитель)",
        "access_log_title": "Выписка из журнала доступа к средствам видеонаблюдения",
        "region": "Наименование субъекта Российской Федерации",
        "point_code": "Код ППЭ",
        "point_name": "Наименование ППЭ",
        "address": "Адрес ППЭ",
        "doc_number": "Документ №",
        "doc_date": "Дата составления",
        "page": "Страница",
        "of": "из",
        "exam": "Экзамен",
        "exam_date": "Дата экзамена",
        "exam_start": "Начало экзамена",
        "deadline": "Срок завершения проверки",
        "no_exam": "экзамен не выбран",
        "absent": "нет данных (модуль не установлен или проверка не проводилась)",
        "checklist": "Проверочный лист",
        "run_started": "Проверка начата",
        "run_finished": "Проверка завершена",
        "operator": "Проверку провёл",
        "timeliness": "Соблюдение срока",
        "on_time": "в срок",
        "late_by": "с опозданием на {minutes} мин",
        "no_deadline": "срок не установлен",
        "result": "Итог",
        "passed": "готов",
        "failed": "не готов",
        "item": "Пункт проверки",
        "severity": "Важность",
        "status": "Результат",
        "value": "Измерено",
        "expected": "Требуется",
        "confirmed_by": "Подтвердил, время",
        "manual": "ручная",
        "disabled_items": "Не применяются на этом ППЭ",
        "cameras": "Видеонаблюдение: проверка камер",
        "camera": "Камера",
        "zone": "Зона",
        "room": "Помещение",
        "verdict": "Заключение",
        "findings": "Замечания",
        "snapshots": "Снимки с камер",
        "verified_at": "Проверка выполнена",
        "archive_window": "Интервал записи",
        "archive_cameras": "Камеры",
        "files": "Файлов",
        "size": "Объём",
        "manifest_hash": "Хеш манифеста архива (SHA-256)",
        "gaps": "Обнаруженные разрывы записи",
        "no_gaps": "разрывов не обнаружено",
        "gap_from": "С",
        "gap_to": "По",
        "gap_length": "Длительность",
        "bag_location": "Размещение архива",
        "archived_at": "Архив создан",
        "col_no": "№",
        "col_date": "Дата",
        "col_room": "Номер аудитории, в которой размещено средство видеонаблюдения",
        "col_time": "Время (часы, минуты)",
        "col_action": "Осуществляемые действия",
        "col_performed": "Сведения о лице, осуществляющем действия",
        "col_responsible": "Ответственный за видеонаблюдение в ППЭ",
        "col_note": "Примечание",
        "period": "Период выписки",
        "whole_log": "весь журнал",
        "log_entries": "Записи журнала",
        "entries": "Строк в выписке",
        "audit": "Результаты проверки журнала",
        "audit_ok": "замечаний нет",
        "checkpoint": "Контрольная точка журнала (подписанная)",
        "checkpoint_refused": (
            "Контрольная точка журнала не создана: цепочка записей журнала нарушена "
            "(журнал изменён после записи). Выписка не подтверждает целостность журнала; "
            "проверка: ppe-tech pak verify"
        ),
        "checkpoint_size": "Записей в журнале",
        "checkpoint_head": "Хеш последней записи",
        "checkpoint_time": "Время фиксации",
        "signatures": "Подписи",
        "role_technician": "Технический специалист",
        "role_head": "Руководитель ППЭ",
        "role_commission": "Член ГЭК",
        "role_organisation_head": "Руководитель организации, на базе которой организован ППЭ",
        "sig_name": "ФИО",
        "sig_position": "Должность",
        "sig_signature": "Подпись",
        "sig_date": "Дата",
        "attachment_note": (
            "Исходные данные протокола вложены в файл в формате JSON (results.json). "
            "Документ подписан электронной подписью (PAdES)."
        ),
        "stamp": "Подписано ЭП: %(signer)s\n%(role)s\nСертификат: %(serial)s\nВремя: %(when)s",
        "status_pass": "соответствует",
        "status_ok": "исправна",
        "status_warning": "есть замечания",
        "cam_ok": "исправна",
        "cam_warning": "есть замечания",
        "cam_fail": "неисправна",
        "status_fail": "не соответствует",
        "status_timeout": "нет ответа",
        "status_error": "ошибка",
        "status_skip": "пропущено",
        "status_unanswered": "не подтверждено",
        "status_interrupted": "не завершено",
        "severity_critical": "критично",
        "severity_warning": "важно",
        "severity_info": "справочно",
        "severity_high": "высокая",
        "severity_medium": "средняя",
        "severity_low": "низкая",
        "undecodable": "Файлы, которые не читаются",
        "yes": "да",
        "no": "нет",
    },
    "en": {
        "form": "Form",
        "see_data": "details in the attached results.json",
        "incomplete": "incomplete",
        "incomplete_note": "Incomplete document",
        "col_start": "Start",
        "col_end": "End",
        "log_entry_no": "log entry no.",
        "log_entries_in_extract": "Log entries in this extract",
        "start_end_one_row": "a start and its end are two log entries in one row: {n}",
        "outside_extract": "the other {n} are outside the extract's period",
        "log_signatures_note": (
            "The signature cells are for a pen; the extract as a whole carries the technical "
            "specialist's electronic signature."
        ),
        "summary": "Result of the check",
        "failed_critical": "Critical items not met",
        "failed_cameras": "Faulty cameras",
        "not_checked": "not checked",
        "checked_by": "Checked by",
        "zone_auditorium": "auditorium",
        "zone_corridor": "corridor",
        "zone_entrance": "entrance",
        "zone_staff-room": "staff room",
        "archive_medium": "Medium",
        "medium_label": "label",
        "medium_serial": "serial",
        "medium_unknown": "not detected (fill in by hand)",
        "bag_name": "Archive (BagIt folder)",
        "keep_until": "Keep until",
        "handed_over": "Handed over",
        "received": "Received",
        "archive_id": "Archive no.",
        "readiness_title": "Technical readiness protocol of the exam point",
        "act_title": "Readiness act of the exam point",
        "room_title": "Technical readiness protocol of the auditorium",
        "staff_room_title": "Technical readiness protocol of the staff room",
        "room_number": "Auditorium number",
        "station": "Station",
        "station_role": "Role",
        "how_checked": "Checked",
        "how_station run": "automatically (run on the station)",
        "how_by hand": "by hand",
        "state_passed": "ready",
        "state_confirmed": "confirmed by hand",
        "state_failed": "not ready",
        "state_stale": "check out of date",
        "state_not-checked": "never checked",
        "cam_not-verified": "not verified",
        "room_ready": "The auditorium is ready for the exam",
        "room_not_ready": "The auditorium is not ready for the exam",
        "no_stations": "no stations named for this room",
        "act_intro": (
            "This act records the check of the exam point's readiness for the exam, made no "
            "later than the day before the exam."
        ),
        "cameras_ok": "{ok} of {total} working",
        "act_conclusion_ready": "The exam point is ready for the exam.",
        "act_conclusion_not_ready": "The exam point is not ready for the exam: see the items above.",
        "archive_title": "Video recordings archive act (copy to an external medium)",
        "access_log_title": "Extract from the video access (PAK) log",
        "region": "Region of the Russian Federation",
        "point_code": "Exam point code",
        "point_name": "Exam point",
        "address": "Address",
        "doc_number": "Document No.",
        "doc_date": "Date",
        "page": "Page",
        "of": "of",
        "exam": "Exam",
        "exam_date": "Exam date",
        "exam_start": "Exam start",
        "deadline": "Check deadline",
        "no_exam": "no exam selected",
        "absent": "absent (job not installed or not run yet)",
        "checklist": "Checklist",
        "run_started": "Check started",
        "run_finished": "Check finished",
        "operator": "Checked by",
        "timeliness": "Deadline",
        "on_time": "on time",
        "late_by": "late by {minutes} min",
        "no_deadline": "no deadline",
        "result": "Result",
        "passed": "ready",
        "failed": "not ready",
        "item": "Item",
        "severity": "Severity",
        "status": "Result",
        "value": "Measured",
        "expected": "Expected",
        "confirmed_by": "Confirmed by, when",
        "manual": "manual",
        "disabled_items": "Not applicable at this point",
        "cameras": "Video surveillance: camera check",
        "camera": "Camera",
        "zone": "Zone",
        "room": "Room",
        "verdict": "Verdict",
        "findings": "Findings",
        "snapshots": "Camera snapshots",
        "verified_at": "Checked at",
        "archive_window": "Recording window",
        "archive_cameras": "Cameras",
        "files": "Files",
        "size": "Size",
        "manifest_hash": "Archive manifest hash (SHA-256)",
        "gaps": "Gaps found in the recordings",
        "no_gaps": "no gaps found",
        "gap_from": "From",
        "gap_to": "To",
        "gap_length": "Length",
        "bag_location": "Archive location",
        "archived_at": "Archived at",
        "col_no": "No.",
        "col_date": "Date",
        "col_room": "Auditorium / room",
        "col_time": "Time (hours, minutes)",
        "col_action": "Action",
        "col_performed": "Performed by",
        "col_responsible": "Responsible for video at the point",
        "col_note": "Note",
        "period": "Period",
        "whole_log": "the whole log",
        "log_entries": "Log entries",
        "entries": "Rows in this extract",
        "audit": "Log audit findings",
        "audit_ok": "no findings",
        "checkpoint": "Log checkpoint (signed)",
        "checkpoint_refused": (
            "No log checkpoint: the chain of the log's entries is broken (the log was changed "
            "after it was written). This extract does not vouch for the log; check it with "
            "ppe-tech pak verify"
        ),
        "checkpoint_size": "Entries in the log",
        "checkpoint_head": "Hash of the last entry",
        "checkpoint_time": "Taken at",
        "signatures": "Signatures",
        "role_technician": "Technical specialist",
        "role_head": "Head of the exam point",
        "role_commission": "Member of the commission",
        "role_organisation_head": "Head of the host organisation",
        "sig_name": "Name",
        "sig_position": "Position",
        "sig_signature": "Signature",
        "sig_date": "Date",
        "attachment_note": (
            "The raw results of this protocol are attached to the file as JSON "
            "(results.json). The document carries an electronic signature (PAdES)."
        ),
        "stamp": "Signed: %(signer)s\n%(role)s\nCertificate: %(serial)s\nTime: %(when)s",
        "status_pass": "pass",
        "status_ok": "ok",
        "status_warning": "warning",
        "cam_ok": "ok",
        "cam_warning": "warning",
        "cam_fail": "FAIL",
        "status_fail": "FAIL",
        "status_timeout": "no answer",
        "status_error": "error",
        "status_skip": "skipped",
        "status_unanswered": "not confirmed",
        "status_interrupted": "not finished",
        "severity_critical": "critical",
        "severity_warning": "warning",
        "severity_info": "info",
        "severity_high": "high",
        "severity_medium": "medium",
        "severity_low": "low",
        "undecodable": "Unreadable files",
        "yes": "yes",
        "no": "no",
    },
}


# camera finding codes (ppe_tech.cameras) and PAK audit codes (ppe_tech.pak.audit) in Russian;
# the English pages show the job's own message
FINDINGS_RU = {
    "unreachable": "нет связи с камерой",
    "timeout": "камера не ответила вовремя",
    "no_frames": "нет кадров",
    "stalled": "поток прерывается",
    "low_fps": "низкая частота кадров",
    "resolution_mismatch": "разрешение не соответствует заданному",
    "black": "чёрный кадр",
    "uniform": "однотонный кадр",
    "overexposed": "изображение засвечено",
    "frozen": "изображение не меняется",
    "blurred": "изображение размыто",
    "covered": "объектив закрыт",
    "moved": "камера сдвинута",
    "dark": "изображение слишком тёмное",
    "no_reference": "нет утверждённого эталонного снимка",
}  # fmt: skip - a table
AUDIT_RU = {
    "log-tampered": "журнал изменён после записи (цепочка записей нарушена)",
    "camera-action-during-exam": "действие со средством видеонаблюдения во время экзамена",
    "recording-off-before-exam-end": "запись отключена до окончания экзамена",
    "unknown-person": "лицо не указано в списке работников ППЭ",
    "late-entry": "запись внесена в журнал позже, чем через сутки после действия",
    "entry-before-action": "запись внесена в журнал раньше начала действия",
    "start-without-end": "начало действия без записи об окончании",
    "overlapping-actions": "действия в одной аудитории пересекаются по времени",
}
# probe values and messages: whole phrases first, then words and units
_PHRASES_RU = [
    (r"^version (\S+) is older than required$", r"версия \1 старше требуемой"),
    (r"^([\d.,]+) ?(GiB|GB) free$", r"свободно \1 ГиБ"),
    (r"^([\d.,]+) ?(MiB|MB) free$", r"свободно \1 МиБ"),
    (r"^(\d+)/(\d+) ok \(run (\d+)\)$", r"исправны \1 из \2 (проверка камер № \3)"),
    (r"^(\d{3}) in ([\d.]+) ?ms$", r"ответ \1 за \2 мс"),
    (r"^offset ([-+]?[\d.]+) ?s$", r"расхождение \1 с"),
    (r"^within ([\d.]+) ?s$", r"не более \1 с"),
    (r"^all cameras ok$", "все камеры исправны"),
]
_WORDS_RU = {
    "yes": "да",
    "no": "нет",
    "absent": "отсутствует",
    "present": "есть",
    "ok": "в норме",
    "ready": "готов",
    "running": "работает",
    "none": "нет",
}
_UNITS_RU = [
    (r"(\d) ?ms\b", r"\1 мс"),
    (r"(\d) ?s\b", r"\1 с"),
    (r"(\d) ?min\b", r"\1 мин"),
    (r"(\d) ?h\b", r"\1 ч"),
    (r"(\d) ?GiB\b", r"\1 ГиБ"),
    (r"(\d) ?MiB\b", r"\1 МиБ"),
]
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def ru_text(value: Any) -> str | None:
    """A probe's value or message in Russian, or None when it cannot be said in Russian
    (the page then points to results.json, which keeps the job's own words)."""
    text = str(value).strip()
    if text.lower() in _WORDS_RU:
        return _WORDS_RU[text.lower()]
    for pattern, replacement in _PHRASES_RU:
        if re.match(pattern, text):
            return re.sub(pattern, replacement, text)
    for pattern, replacement in _UNITS_RU:
        text = re.sub(pattern, replacement, text)
    return None if LATIN_WORD.search(text) else text


class Labels(dict):
    """``t.name`` in templates; an unknown name shows as itself instead of failing."""

    lang = "ru"

    def __getattr__(self, name: str) -> str:
        return self.get(name, name)

    def text(self, value: Any) -> str:
        """A measured value or message as this language writes it ("" for none)."""
        if value is None or value == "":
            return ""
        if self.lang != "ru":
            return str(value)
        said = ru_text(value)
        return said if said is not None else self["see_data"]

    def zone(self, value: Any) -> str:
        return self.get(f"zone_{value}", str(value))

    def finding(self, finding: dict[str, Any]) -> str:
        if self.lang == "ru":
            return FINDINGS_RU.get(str(finding.get("code")), self["see_data"])
        return str(finding.get("message") or finding.get("code"))

    def audit_text(self, finding: dict[str, Any]) -> str:
        if self.lang == "ru":
            return AUDIT_RU.get(str(finding.get("code")), self["see_data"])
        return str(finding.get("message") or finding.get("code"))

    def st(self, value: Any) -> str:
        return self.get(f"status_{value}", str(value))

    def sev(self, value: Any) -> str:
        return self.get(f"severity_{value}", str(value))


def labels(lang: str) -> Labels:
    found = Labels(LABELS[lang])
    found.lang = lang
    return found
