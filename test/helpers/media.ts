// Media fixtures for upload tests.

/** A minimal MP4: an `ftyp` box and a `moov/trak/tkhd` box declaring the video's size. */
export function mp4(width: number, height: number): Buffer {
  const box = (type: string, payload: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + payload.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, payload]);
  };
  const tkhd = Buffer.alloc(84); // version 0: flags, times, track, duration, matrix, size
  tkhd.writeUInt32BE(3, 0); // version 0, flags: enabled + in movie
  tkhd.writeUInt32BE(1, 12); // track id
  tkhd.writeUInt32BE(width * 65536, 76);
  tkhd.writeUInt32BE(height * 65536, 80);
  return Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\0\0isomiso2', 'latin1')),
    box('moov', box('trak', box('tkhd', tkhd))),
  ]);
}
