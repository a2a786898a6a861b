/** Python `datetime.now(timezone.utc).isoformat()`: microseconds, `+00:00`, no fraction when zero. */
export function pythonIsoNow(date: Date = new Date()): string {
  const iso = date.toISOString(); // 2026-11-26T11:53:19.604Z
  const base = iso.slice(0, 19);
  const ms = date.getUTCMilliseconds();
  return ms === 0 ? `${base}+00:00` : `${base}.${String(ms).padStart(3, '0')}000+00:00`;
}
