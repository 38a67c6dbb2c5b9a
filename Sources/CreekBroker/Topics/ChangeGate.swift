/// An async mutex: one topic change at a time, in arrival order, without blocking a thread
/// while a change waits for its file I/O. Invariant: `busy` is true exactly while a holder
/// runs; `waiters` are resumed one at a time on release.
actor ChangeGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
