// swift-tools-version: 6.0
// A package that depends on MoodDex, as a researcher's own project would: CI builds and runs it
// to prove that SwiftPM accepts MoodDex's libraries as a dependency (no unsafe flags) and that
// their public API is enough to compute something. `scripts/check-dependable` runs it against a
// version-tagged clone (SwiftPM refuses unsafe flags only in such dependencies, not in a path
// dependency); `swift run --package-path Tests/DependentPackage` runs it against this folder.
import Foundation
import PackageDescription

let mooddex: Package.Dependency =
    ProcessInfo.processInfo.environment["MOODDEX_DEPENDENCY_URL"]
    .map { .package(url: $0, from: "1.0.0") } ?? .package(name: "MoodDex", path: "../..")

let package = Package(
    name: "MoodDexConsumer",
    dependencies: [mooddex],
    targets: [
        .executableTarget(
            name: "MoodDexConsumer",
            dependencies: [
                .product(name: "MoodSpectrogram", package: "MoodDex"),
                .product(name: "MoodMetrics", package: "MoodDex"),
                .product(name: "MoodTensor", package: "MoodDex"),
            ])
    ]
)
