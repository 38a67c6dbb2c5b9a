/// The crash-safe replacement of one closed segment by its cleaned copy. The cleaner builds
/// the copy — `<base>.log` and its indexes — in `<partition>/cleaning/`, fsynced. Then:
///   1. `cleaning/<base>.log` is renamed to `<partition>/<base>.log.swap` and both
///      directories are fsynced: from here the copy wins;
///   2. the copy's `.index`, `.timeindex` and `.txnindex` are renamed over the old ones;
///   3. `<base>.log.swap` is renamed over `<base>.log`, and the directory fsynced.
/// A crash before step 1 leaves the old segment and a staging directory that startup
/// removes; after it, startup finishes steps 2 and 3 (`recover`). Either way the segment is
/// wholly old or wholly new.
enum SegmentSwap {
    static let stagingName = "cleaning"
    static let swapSuffix = ".log.swap"
    static let indexSuffixes = [".index", ".timeindex", ".txnindex"]

    static func staging(_ directory: String) -> String { directory + "/" + stagingName }

    /// Steps 1–3 for the copy of segment `base` staged in `staging(directory)`.
    static func install(base: Int64, directory: String, files: any FileOperations) throws(StorageError) {
        let staged = staging(directory)
        let swap = directory + "/" + LogSegment.fileName(base, swapSuffix)
        try files.rename(staged + "/" + LogSegment.fileName(base, ".log"), to: swap)
        try files.syncDirectory(directory)
        try files.syncDirectory(staged)
        try finish(base: base, directory: directory, files: files)
    }

    /// Steps 2 and 3: whatever of the copy's files are still staged replace the old ones.
    private static func finish(base: Int64, directory: String, files: any FileOperations) throws(StorageError) {
        let staged = staging(directory)
        for suffix in indexSuffixes {
            let name = LogSegment.fileName(base, suffix)
            // Absent when already moved (a resumed swap) or never written (a copy without
            // index entries, or without aborts — the copy keeps the old segment's aborts).
            if files.exists(staged + "/" + name) {
                try files.rename(staged + "/" + name, to: directory + "/" + name)
            }
        }
        try files.rename(directory + "/" + LogSegment.fileName(base, swapSuffix), to: directory + "/" + LogSegment.fileName(base, ".log"))
        try files.syncDirectory(directory)
    }

    /// At startup, before segments are opened: completes every swap past its commit point
    /// and removes the staging directory with whatever an interrupted pass left in it.
    static func recover(directory: String, files: any FileOperations) throws(StorageError) {
        var changed = false
        for name in try files.list(directory) where name.hasSuffix(swapSuffix) {
            guard let base = Int64(name.dropLast(swapSuffix.count)) else { continue }
            try finish(base: base, directory: directory, files: files)
            changed = true
        }
        let staged = staging(directory)
        if files.isDirectory(staged) {
            try files.removeTree(staged)
            changed = true
        }
        if changed { try files.syncDirectory(directory) }
    }
}
