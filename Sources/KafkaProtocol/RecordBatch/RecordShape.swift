/// The layout of a record the walk read in full, to recognise the next record of the same
/// layout without reading it field by field: same length prefix, attributes, key length and
/// value length bytes, timestamp and offset deltas of the same widths, no headers. A record
/// that matches has every field where the learned one had it, so it is as valid as that one
/// was; only its timestamp delta and offset delta are new, and the walk still checks the
/// offset delta. Producers mostly write runs of records alike in all of this.
struct RecordShape {
    /// Over the 8 bytes from a record's start: every bit of the length prefix, attributes
    /// and key length, and the continuation bit of each timestamp- and offset-delta byte.
    private var headMask: UInt64
    private var head: UInt64
    /// Over the two bytes at `valueLengthAt`: the value length's one or two bytes.
    private var valueLengthMask: UInt16
    private var valueLength: UInt16
    private var valueLengthAt: Int
    /// Bytes from the start the match reads: the record, and at least the 8-byte word.
    private var reach: Int
    private var size: Int
    private var attributes: Int8
    /// Where each delta starts in the word, in bits, and the masks that join its 7-bit groups.
    private var timestampShift: UInt64
    private var timestampGroups: (UInt32, UInt32)
    private var offsetShift: UInt64
    private var offsetGroups: (UInt32, UInt32)
    private var key: Range<Int>?
    private var value: Range<Int>?

    /// Matches nothing.
    static let unknown = RecordShape(
        headMask: 0, head: 1, valueLengthMask: 0, valueLength: 0, valueLengthAt: 0, reach: .max, size: 0, attributes: 0,
        timestampShift: 0, timestampGroups: (0, 0), offsetShift: 0, offsetGroups: (0, 0), key: nil, value: nil
    )

    private init(
        headMask: UInt64, head: UInt64, valueLengthMask: UInt16, valueLength: UInt16, valueLengthAt: Int, reach: Int, size: Int,
        attributes: Int8, timestampShift: UInt64, timestampGroups: (UInt32, UInt32), offsetShift: UInt64,
        offsetGroups: (UInt32, UInt32), key: Range<Int>?, value: Range<Int>?
    ) {
        self.headMask = headMask; self.head = head
        self.valueLengthMask = valueLengthMask; self.valueLength = valueLength; self.valueLengthAt = valueLengthAt
        self.reach = reach; self.size = size; self.attributes = attributes
        self.timestampShift = timestampShift; self.timestampGroups = timestampGroups
        self.offsetShift = offsetShift; self.offsetGroups = offsetGroups
        self.key = key; self.value = value
    }

    /// The layout of `record`, or `unknown` when it has headers, its front (length prefix
    /// through key length) does not fit in 8 bytes, a delta is over three bytes or its value
    /// length over two.
    init(learning record: ParsedRecord, in bytes: UnsafeRawBufferPointer) {
        let start = record.span.bytes.lowerBound
        let keyLengthEnd = record.span.key?.lowerBound ?? record.valueLengthAt
        let valueLengthEnd = record.span.value?.lowerBound ?? record.headerCountAt
        let timestampWidth = record.offsetAt &- record.timestampAt
        let offsetWidth = record.keyLengthAt &- record.offsetAt
        guard record.span.headerCount == 0, keyLengthEnd &- start <= 8, bytes.count &- start >= 8,
              timestampWidth <= 3, offsetWidth <= 3, valueLengthEnd &- record.valueLengthAt <= 2 else {
            self = .unknown
            return
        }
        func bytesMask(_ from: Int, _ to: Int) -> UInt64 {
            // Bytes [from, to) of the word, relative to the record's start; 0 <= from <= to <= 8.
            let upTo = to &- start >= 8 ? UInt64.max : (UInt64(1) &<< UInt64((to &- start) &* 8)) &- 1
            return upTo & ~((UInt64(1) &<< UInt64((from &- start) &* 8)) &- 1)
        }
        func groups(_ width: Int) -> (UInt32, UInt32) { (width >= 2 ? 0x3F80 : 0, width >= 3 ? 0x1F_C000 : 0) }
        let deltas = bytesMask(record.timestampAt, record.keyLengthAt)
        let headMask = bytesMask(start, keyLengthEnd) & ~(deltas & 0x7F7F_7F7F_7F7F_7F7F)
        let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self))
        let valueLengthMask: UInt16 = valueLengthEnd &- record.valueLengthAt == 2 ? 0xFFFF : 0x00FF
        let valueLength = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: record.valueLengthAt, as: UInt16.self))
        let size = record.span.bytes.count
        self.init(
            headMask: headMask, head: word & headMask,
            valueLengthMask: valueLengthMask, valueLength: valueLength & valueLengthMask,
            valueLengthAt: record.valueLengthAt &- start, reach: max(8, size), size: size, attributes: record.span.attributes,
            timestampShift: UInt64((record.timestampAt &- start) &* 8), timestampGroups: groups(timestampWidth),
            offsetShift: UInt64((record.offsetAt &- start) &* 8), offsetGroups: groups(offsetWidth),
            key: record.span.key.map { Range(uncheckedBounds: ($0.lowerBound &- start, $0.upperBound &- start)) },
            value: record.span.value.map { Range(uncheckedBounds: ($0.lowerBound &- start, $0.upperBound &- start)) }
        )
    }

    /// The record at `start` when it has this layout: its span (offset delta not yet
    /// checked) and its offset delta still zig-zag encoded; nil when it does not match.
    @inline(__always)
    func match(in bytes: UnsafeRawBufferPointer, at start: Int) -> (span: RecordSpan, rawOffsetDelta: UInt32)? {
        guard bytes.count &- start >= reach else { return nil }
        let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self))
        let end = start &+ size
        // The value length's two bytes lie inside the record: the header count follows them.
        guard word & headMask == head,
              UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: start &+ valueLengthAt, as: UInt16.self)) & valueLengthMask == valueLength,
              bytes[end &- 1] == 0 else { return nil }
        let rawTimestamp = Self.join(word &>> timestampShift, timestampGroups)
        func shifted(_ range: Range<Int>?) -> Range<Int>? {
            range.map { Range(uncheckedBounds: ($0.lowerBound &+ start, $0.upperBound &+ start)) }
        }
        return (
            RecordSpan(
                bytes: Range(uncheckedBounds: (start, end)), attributes: attributes,
                timestampDelta: Int64(VarintCursor.zigzag(rawTimestamp)), offsetDelta: 0,
                key: shifted(key), value: shifted(value), headerCount: 0, headers: Range(uncheckedBounds: (end, end))
            ),
            Self.join(word &>> offsetShift, offsetGroups)
        )
    }

    /// The varint in the low bytes of `bits` whose width the groups mask says (one to three
    /// bytes), its 7-bit groups joined.
    @inline(__always)
    private static func join(_ bits: UInt64, _ groups: (UInt32, UInt32)) -> UInt32 {
        let field = UInt32(truncatingIfNeeded: bits)
        return (field & 0x7F) | (field &>> 1 & groups.0) | (field &>> 2 & groups.1)
    }
}
