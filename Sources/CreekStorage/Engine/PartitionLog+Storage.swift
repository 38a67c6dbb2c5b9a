extension PartitionLog: PartitionStorage {
    public func retire(tag: String) throws(StorageError) -> @Sendable () -> Void {
        let path = try retireDirectory(tag: tag)
        let files = self.files
        return { try? files.removeTree(path) }
    }
}
