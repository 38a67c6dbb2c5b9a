import Foundation
public import NIOCore
public import NIOHTTP1

/// One admin HTTP request, read whole: method, path, query parameters and body.
public struct AdminRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query, percent-decoded.
    public var path: String
    public var query: [String: String]
    public var body: ByteBuffer

    init(head: HTTPRequestHead, body: ByteBuffer) {
        method = head.method
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "/").removingPercentEncoding ?? String(parts.first ?? "/")
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let decode = { (text: Substring) in String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text) }
                query[decode(keyValue[0])] = keyValue.count > 1 ? decode(keyValue[1]) : ""
            }
        }
        self.query = query
        self.body = body
    }

    public init(method: HTTPMethod, path: String, query: [String: String] = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    /// The path's segments: "/api/topics/orders" → ["api", "topics", "orders"].
    var segments: [String] { path.split(separator: "/").map(String.init) }
}

/// One admin HTTP response: status, content type, extra headers and body.
public struct HTTPReply: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var headers: [(String, String)] = []
    public var body: ByteBuffer

    static func text(_ text: String, status: HTTPResponseStatus = .ok, contentType: String = "text/plain; charset=utf-8") -> HTTPReply {
        HTTPReply(status: status, contentType: contentType, body: ByteBuffer(string: text))
    }

    static func bytes(_ bytes: [UInt8], contentType: String) -> HTTPReply {
        HTTPReply(status: .ok, contentType: contentType, body: ByteBuffer(bytes: bytes))
    }

    /// `value` as JSON (keys sorted).
    static func json<Value: Encodable>(_ value: Value, status: HTTPResponseStatus = .ok) -> HTTPReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return error(.internalServerError, "could not encode the response") }
        return HTTPReply(status: status, contentType: "application/json", body: ByteBuffer(bytes: data))
    }

    /// `{"error": message}` with `status`.
    static func error(_ status: HTTPResponseStatus, _ message: String) -> HTTPReply {
        json(["error": message], status: status)
    }
}
