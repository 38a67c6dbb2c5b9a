public import KafkaProtocol
public import NIOCore

/// Why the records of a stored or produced batch could not be read.
public enum BatchDecodeError: Error, Sendable, CustomStringConvertible {
    case compression(CompressionError)
    case records(RecordBatchError)

    public var description: String {
        switch self {
        case .compression(let error): return error.description
        case .records(let error): return "\(error)"
        }
    }
}

extension RecordBatch {
    /// The record bytes, decompressed in the batch's codec (as stored when uncompressed).
    public func decompressedBody(limit: Int = BatchCodec.defaultLimit) throws(BatchDecodeError) -> ByteBuffer {
        guard let codec = compression else { throw .compression(.corrupt(.none, "unknown codec in attributes \(attributes)")) }
        guard codec != .none else { return body }
        do {
            return ByteBuffer(bytes: try BatchCodec.decompress(Array(body.readableBytesView), with: codec, limit: limit))
        } catch {
            throw .compression(error)
        }
    }

    /// The records of a batch in any codec. Offsets need only rise (stored batches the
    /// cleaner has thinned have gaps).
    public func decodedRecords(limit: Int = BatchCodec.defaultLimit) throws(BatchDecodeError) -> [Record] {
        let body = try decompressedBody(limit: limit)
        do {
            return try records(inBody: body, contiguous: false)
        } catch {
            throw .records(error)
        }
    }

    /// `decodedRecords` without the array: each record handed to `visit` as it is read.
    public func forEachDecodedRecord(limit: Int = BatchCodec.defaultLimit, _ visit: (Record) -> Void) throws(BatchDecodeError) {
        let body = try decompressedBody(limit: limit)
        do {
            try forEachRecord(inBody: body, contiguous: false, visit)
        } catch {
            throw .records(error)
        }
    }

    /// The records of a batch in any codec, each with its stored bytes.
    public func decodedRawRecords(limit: Int = BatchCodec.defaultLimit) throws(BatchDecodeError) -> [RawRecord] {
        let body = try decompressedBody(limit: limit)
        do {
            return try rawRecords(inBody: body)
        } catch {
            throw .records(error)
        }
    }

    /// This batch holding only `kept` (some of its own records, in order), recompressed in
    /// its own codec; every other header field is kept (see `replacingBody`).
    public func keeping(_ kept: [RawRecord]) throws(BatchDecodeError) -> RecordBatch {
        var plain = ByteBuffer()
        for record in kept { plain.writeImmutableBuffer(record.bytes) }
        let codec = compression ?? .none
        guard codec != .none else { return replacingBody(plain, count: Int32(kept.count)) }
        do {
            let packed = try BatchCodec.compress(Array(plain.readableBytesView), with: codec)
            return replacingBody(ByteBuffer(bytes: packed), count: Int32(kept.count))
        } catch {
            throw .compression(error)
        }
    }

    /// A batch of `records` built by `builder`, compressed with `codec` (for tests and the
    /// Swift client): the builder's uncompressed batch with its body replaced and the codec
    /// set in the attributes.
    public static func compressed(_ batch: RecordBatch, with codec: RecordBatch.Compression) throws(CompressionError) -> RecordBatch {
        guard codec != .none else { return batch }
        let packed = try BatchCodec.compress(Array(batch.body.readableBytesView), with: codec)
        var withCodec = batch.replacingBody(ByteBuffer(bytes: packed), count: batch.recordsCount)
        withCodec.setCompression(codec)
        return withCodec
    }
}
