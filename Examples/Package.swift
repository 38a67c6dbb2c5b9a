// swift-tools-version:6.0
// Runnable examples of the Swift client (CreekClient) and the embedded broker (CreekBroker):
//   swift run --package-path Examples Produce 127.0.0.1:9092
//   swift run --package-path Examples GroupConsumer 127.0.0.1:9092
//   swift test --package-path Examples
import PackageDescription

let package = Package(
    name: "CreekExamples",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "creek", path: "..")],
    targets: [
        .executableTarget(name: "Produce", dependencies: [.product(name: "CreekClient", package: "creek")]),
        .executableTarget(name: "GroupConsumer", dependencies: [.product(name: "CreekClient", package: "creek")]),
        .testTarget(name: "EmbeddedBrokerTests", dependencies: [
            .product(name: "CreekClient", package: "creek"), .product(name: "CreekBroker", package: "creek"),
        ]),
    ]
)
