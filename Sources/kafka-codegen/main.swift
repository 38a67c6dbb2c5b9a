import Foundation

// kafka-codegen SCHEMA_DIR OUTPUT_DIR [TEST_OUTPUT_DIR]
//
// Reads Apache Kafka's JSON message schemas and writes one Swift file per schema into
// OUTPUT_DIR (plus ApiKey.swift and KafkaMessageCatalog.swift). With TEST_OUTPUT_DIR it
// also writes the random-value builders the round-trip tests use. Files in the output
// folders that it did not write are removed, so the folders mirror the schemas.

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2 || arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: kafka-codegen SCHEMA_DIR OUTPUT_DIR [TEST_OUTPUT_DIR]\n".utf8))
    exit(2)
}
let schemaDirectory = URL(fileURLWithPath: arguments[arguments.startIndex])
let outputDirectory = URL(fileURLWithPath: arguments[arguments.startIndex + 1])
let testOutputDirectory = arguments.count == 3 ? URL(fileURLWithPath: arguments[arguments.startIndex + 2]) : nil

func writeFolder(_ directory: URL, files: [String: String]) throws {
    let manager = FileManager.default
    try manager.createDirectory(at: directory, withIntermediateDirectories: true)
    for existing in try manager.contentsOfDirectory(atPath: directory.path)
    where existing.hasSuffix(".swift") && files[existing] == nil {
        try manager.removeItem(at: directory.appendingPathComponent(existing))
    }
    for (name, text) in files {
        let url = directory.appendingPathComponent(name)
        if let current = try? String(contentsOf: url, encoding: .utf8), current == text { continue }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}

do {
    let names = try FileManager.default.contentsOfDirectory(atPath: schemaDirectory.path)
        .filter { $0.hasSuffix(".json") }
        .sorted()
    var messages: [MessageSpec] = []
    for name in names {
        let text = try String(contentsOf: schemaDirectory.appendingPathComponent(name), encoding: .utf8)
        do {
            messages.append(try MessageSpec(fileName: name, text: text))
        } catch {
            throw SchemaError("\(name): \(error)")
        }
    }
    var sources: [String: String] = [:]
    var testSources: [String: String] = [:]
    for message in messages {
        sources["\(message.name).swift"] = try MessageEmitter(message: message).emit()
        testSources["\(message.name)+Random.swift"] = try RandomEmitter(message: message).emit()
    }
    let catalog = CatalogEmitter(messages: messages)
    sources["ApiKey.swift"] = try catalog.emitApiKey()
    sources["KafkaMessageCatalog.swift"] = catalog.emitCatalog()
    try writeFolder(outputDirectory, files: sources)
    if let testOutputDirectory {
        try writeFolder(testOutputDirectory, files: testSources)
    }
    print("kafka-codegen: \(messages.count) schemas -> \(sources.count) files")
} catch {
    FileHandle.standardError.write(Data("kafka-codegen: \(error)\n".utf8))
    exit(1)
}
