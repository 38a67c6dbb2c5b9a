import KafkaProtocol
import NIOConcurrencyHelpers

/// The broker's incremental fetch sessions (KIP-227), shared by every connection.
///
/// A Fetch is handled in two steps so that a request that is read, found not ready and
/// read again (a long poll, or the in-place path handing over to the ordinary one) changes
/// nothing until its response: `open` checks the session and computes what to read from a
/// copy; `close` stores the copy with the response's watermarks, provided no other request
/// used the session meanwhile. Invariant: at most `slots` sessions; ids are positive.
final class FetchSessionCache: Sendable {
    /// Kafka's `min.incremental.fetch.session.eviction.ms`: a full cache evicts its least
    /// recently used session only when it has been idle this long.
    static let evictableAfter = Duration.seconds(120)

    /// What `open` decided for one request.
    struct Opened: Sendable {
        enum Kind: Sendable {
            /// No session: epoch -1 (or Fetch v4-6). A named session, if any, is closed.
            case sessionless(closing: Int32)
            /// Epoch 0: a new session is created from the response (the named one closed).
            case full(closing: Int32)
            /// An existing session at the expected epoch; `updated` is stored on close.
            case incremental(updated: FetchSession, expectedEpoch: Int32)
            /// Answered with this top-level error and nothing else.
            case refused(KafkaErrorCode)
        }

        var kind: Kind
        var plan: FetchPlan
    }

    private struct State {
        var sessions: [Int32: FetchSession] = [:]
    }

    private let slots: Int
    private let state = NIOLockedValueBox(State())

    init(slots: Int) {
        self.slots = slots
    }

    var count: Int { state.withLockedValue { $0.sessions.count } }

    func open(_ request: FetchRequest, usesTopicIds: Bool) -> Opened {
        if request.sessionEpoch == -1 {
            return Opened(kind: .sessionless(closing: request.sessionId), plan: FetchPlan(request: request))
        }
        if request.sessionEpoch == 0 {
            return Opened(kind: .full(closing: request.sessionId), plan: FetchPlan(request: request))
        }
        let stored = state.withLockedValue { $0.sessions[request.sessionId] }
        guard var session = stored else { return Opened(kind: .refused(.fetchSessionIdNotFound), plan: FetchPlan(topics: [])) }
        guard session.epoch == request.sessionEpoch else {
            return Opened(kind: .refused(.invalidFetchSessionEpoch), plan: FetchPlan(topics: []))
        }
        guard session.usesTopicIds == usesTopicIds else {
            return Opened(kind: .refused(.fetchSessionTopicIdError), plan: FetchPlan(topics: []))
        }
        session.apply(request)
        return Opened(kind: .incremental(updated: session, expectedEpoch: request.sessionEpoch), plan: session.plan)
    }

    /// Stores what the response tells the client, sets its session id, and for an
    /// incremental fetch leaves only the partitions that changed. Returns the response to
    /// send (an error response if the session was used by another request meanwhile).
    func close(_ opened: Opened, response: FetchResponse, request: FetchRequest, usesTopicIds: Bool) -> FetchResponse {
        var response = response
        let now = ContinuousClock.now
        switch opened.kind {
        case .refused(let code):
            return FetchResponse(errorCode: code.rawValue, sessionId: 0)
        case .sessionless(let closing):
            if closing != 0 { _ = state.withLockedValue { $0.sessions.removeValue(forKey: closing) } }
            response.sessionId = 0
        case .full(let closing):
            var session = state.withLockedValue { state -> FetchSession? in
                if closing != 0 { state.sessions.removeValue(forKey: closing) }
                guard let id = makeRoom(&state, now: now) else { return nil }
                let session = FetchSession(id: id, usesTopicIds: usesTopicIds, now: now)
                state.sessions[id] = session
                return session
            }
            session?.apply(request)
            if var created = session {
                created.record(&response, dropUnchanged: false)
                session = created
            }
            guard let session, !session.isEmpty else {
                if let session { _ = state.withLockedValue { $0.sessions.removeValue(forKey: session.id) } }
                response.sessionId = 0
                return response
            }
            state.withLockedValue { $0.sessions[session.id] = session }
            response.sessionId = session.id
        case .incremental(var session, let expected):
            guard !session.isEmpty else {
                _ = state.withLockedValue { $0.sessions.removeValue(forKey: session.id) }
                response.sessionId = 0
                return response
            }
            session.record(&response, dropUnchanged: true)
            session.epoch = FetchSession.nextEpoch(after: expected)
            session.lastUsed = now
            let stored = state.withLockedValue { state -> Bool in
                guard state.sessions[session.id]?.epoch == expected else { return false }
                state.sessions[session.id] = session
                return true
            }
            guard stored else { return FetchResponse(errorCode: KafkaErrorCode.invalidFetchSessionEpoch.rawValue, sessionId: 0) }
            response.sessionId = session.id
        }
        return response
    }

    /// A free session id, evicting the least recently used session when the cache is full
    /// and that session has been idle long enough; nil when there is no room.
    private func makeRoom(_ state: inout State, now: ContinuousClock.Instant) -> Int32? {
        if state.sessions.count >= slots {
            guard let oldest = state.sessions.values.min(by: { $0.lastUsed < $1.lastUsed }),
                  now - oldest.lastUsed >= Self.evictableAfter else { return nil }
            state.sessions.removeValue(forKey: oldest.id)
        }
        var generator = SystemRandomNumberGenerator()
        while true {
            let id = Int32.random(in: 1...Int32.max, using: &generator)
            if state.sessions[id] == nil { return id }
        }
    }
}
