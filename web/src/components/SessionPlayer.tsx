// The player's styles travel with its chunk: only an SSH session's page downloads either.
import 'asciinema-player/dist/bundle/asciinema-player.css';
import { Anchor, List, Stack, Text } from '@mantine/core';
import { create, type Player } from 'asciinema-player';
import { useEffect, useMemo, useRef } from 'react';

/** Idle stretches longer than this many seconds are played as this long (the player's idleTimeLimit). */
const IDLE_LIMIT = 2;

/** When the last event is played, in seconds, with idle stretches shortened as the player does: that frame is shown first. */
const playedEnd = (asciicast: string): number => {
  let previous = 0;
  let played = 0;
  for (const line of asciicast.split('\n').slice(1)) {
    try {
      const event = JSON.parse(line) as unknown;
      if (!Array.isArray(event) || typeof event[0] !== 'number') continue;
      played += Math.min(Math.max(event[0] - previous, 0), IDLE_LIMIT);
      previous = event[0];
    } catch { /* a line that is not an event is skipped, as the player skips it */ }
  }
  return played;
};

/** The proxy's marks (`m` events: a refused forwarding, the notice before the end, why it ended), in order. */
const marksOf = (asciicast: string): { at: number; text: string }[] => asciicast.split('\n').slice(1).flatMap((line) => {
  try {
    const event = JSON.parse(line) as unknown;
    return Array.isArray(event) && event[1] === 'm' ? [{ at: Number(event[0]), text: String(event[2]) }] : [];
  } catch {
    return [];
  }
});

/**
 * An SSH session's recording in asciinema-player, fed the asciicast text the API returned (no second
 * request, and nothing fetched from elsewhere: the Content Security Policy allows only this origin), with
 * a link that saves the same text as a .cast file for `asciinema play`. The text is exactly the stored
 * recording, so the file's SHA-256 is the digest in the audit chain when the verdict says Verified.
 */
export const SessionPlayer = ({ id, asciicast }: { id: string; asciicast: string }) => {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!container.current) return undefined;
    // The last screen is shown until the reader plays it: what the session left on the terminal, at a glance.
    const player: Player = create({ data: asciicast }, container.current,
      { fit: 'width', idleTimeLimit: IDLE_LIMIT, terminalFontSize: 'small', poster: `npt:${playedEnd(asciicast)}` });
    return () => player.dispose();
  }, [asciicast]);
  const download = useMemo(() => URL.createObjectURL(new Blob([asciicast], { type: 'application/x-asciicast' })), [asciicast]);
  useEffect(() => () => URL.revokeObjectURL(download), [download]);
  const marks = useMemo(() => marksOf(asciicast), [asciicast]);
  return (
    <Stack gap="xs">
      <div ref={container} data-testid="asciinema-player" />
      <Anchor href={download} download={`session-${id}.cast`}>Download .cast</Anchor>
      {marks.length > 0 && (
        <>
          <Text fw={600}>What the proxy noted</Text>
          <List size="sm">{marks.map((m, i) => <List.Item key={i}>{m.at.toFixed(1)} s: {m.text}</List.Item>)}</List>
        </>
      )}
    </Stack>
  );
};
