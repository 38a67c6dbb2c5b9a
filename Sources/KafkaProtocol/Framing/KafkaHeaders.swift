public import NIOCore

extension ApiKey {
    /// Request header version for a request of this key at `apiVersion`: v2 for flexible
    /// versions (including versions newer than the schema, so an ApiVersions request
    /// from a newer client still parses), v1 otherwise, v0 only for ControlledShutdown v0.
    public func requestHeaderVersion(apiVersion: Int16) -> Int16 {
        if self == .controlledShutdown && apiVersion == 0 { return 0 }
        if let first = firstFlexibleVersion, apiVersion >= first { return 2 }
        return 1
    }

    /// Response header version: v1 for flexible versions, v0 otherwise, and always v0
    /// for ApiVersions (KIP-511) so a client can read it before it knows the broker.
    public func responseHeaderVersion(apiVersion: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        if let first = firstFlexibleVersion, apiVersion >= first { return 1 }
        return 0
    }
}

/// Why a frame's request header could not be read. The connection must close.
public enum RequestHeaderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The API key is not one this module knows.
    case unknownApiKey(Int16)
    /// The header bytes are malformed.
    case malformed(KafkaDecodingError)

    public var description: String {
        switch self {
        case .unknownApiKey(let key): return "unknown API key \(key)"
        case .malformed(let error): return "malformed request header: \(error)"
        }
    }
}

/// A decoded request header with the key resolved, and the body left in the frame.
public struct FramedRequest: Sendable {
    public var apiKey: ApiKey
    public var header: RequestHeader
    /// The bytes after the header: the request body, undecoded.
    public var body: ByteBuffer

    public var apiVersion: Int16 { header.requestApiVersion }
    public var correlationId: Int32 { header.correlationId }

    /// Reads the header from one frame (as produced by `KafkaFrameDecoder`).
    public init(frame: ByteBuffer) throws(RequestHeaderError) {
        var buffer = frame
        guard let rawKey = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int16.self),
              let rawVersion = buffer.getInteger(at: buffer.readerIndex + 2, endianness: .big, as: Int16.self)
        else {
            throw .malformed(KafkaDecodingError(.truncated, field: "RequestHeader"))
        }
        guard let key = ApiKey(rawValue: rawKey) else { throw .unknownApiKey(rawKey) }
        do {
            header = try RequestHeader(from: &buffer, version: key.requestHeaderVersion(apiVersion: rawVersion))
        } catch {
            throw .malformed(error)
        }
        apiKey = key
        body = buffer
    }
}

extension KafkaWriter {
    /// Starts a response frame: a length placeholder and the response header.
    /// Finish it with `finishFrame()` after writing the body.
    public static func responseFrame(apiKey: ApiKey, apiVersion: Int16, correlationId: Int32) -> KafkaWriter {
        var writer = KafkaWriter(buffer: ByteBuffer())
        writer.writeInteger(Int32(0))
        ResponseHeader(correlationId: correlationId)
            .write(to: &writer, version: apiKey.responseHeaderVersion(apiVersion: apiVersion))
        return writer
    }

    /// Sets the frame's length prefix, counting external records too.
    public mutating func finishFrame() {
        let length = buffer.readableBytes - 4 + externalByteCount
        buffer.setInteger(Int32(truncatingIfNeeded: length), at: buffer.readerIndex, endianness: .big)
    }

    /// A complete response frame for `response` in `version`.
    public static func encodeResponse<Response: KafkaResponseMessage>(
        _ response: Response, version: Int16, correlationId: Int32, inlineRecordsThreshold: Int? = nil
    ) -> KafkaWriter {
        var writer = responseFrame(apiKey: Response.apiKey, apiVersion: version, correlationId: correlationId)
        writer.inlineRecordsThreshold = inlineRecordsThreshold
        response.write(to: &writer, version: version)
        writer.finishFrame()
        return writer
    }

    /// A complete request frame (used by tests and tools that act as a client).
    public static func encodeRequest<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16, correlationId: Int32, clientId: String?
    ) -> KafkaWriter {
        var writer = KafkaWriter(buffer: ByteBuffer())
        writer.writeInteger(Int32(0))
        RequestHeader(
            requestApiKey: Request.apiKey.rawValue,
            requestApiVersion: version,
            correlationId: correlationId,
            clientId: clientId
        ).write(to: &writer, version: Request.apiKey.requestHeaderVersion(apiVersion: version))
        request.write(to: &writer, version: version)
        writer.finishFrame()
        return writer
    }
}

extension ApiVersionsResponse {
    /// The answer to an ApiVersions request whose version the broker does not know
    /// (KIP-511): encoded as v0 whatever was asked, error UNSUPPORTED_VERSION, and
    /// the broker's own ApiVersions range so the client can retry with a version it has.
    public static func unsupportedVersionFrame(correlationId: Int32, supported: ClosedRange<Int16>) -> KafkaWriter {
        let body = ApiVersionsResponse(
            errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
            apiKeys: [ApiVersion(apiKey: ApiKey.apiVersions.rawValue, minVersion: supported.lowerBound, maxVersion: supported.upperBound)]
        )
        return KafkaWriter.encodeResponse(body, version: 0, correlationId: correlationId)
    }
}
