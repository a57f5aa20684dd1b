// swift-tools-version:5.9
// WireLab: one event stream over short polling, long polling, SSE and WebSocket.
// No package dependencies: the toolchain (Foundation, Dispatch, Glibc, XCTest) and
// one small C target of our own for epoll, TCP_INFO and an atomic integer.
import PackageDescription

// Release builds skip Swift's run-time exclusivity checks (every access to a class's stored
// property through `inout`, e.g. a connection's parser or output queue, called
// swift_beginAccess): ~1,000 of ~9,800 instructions per `GET /poll` under callgrind
// (Tests/Bench/perf/README.md). Debug builds, which the tests run, keep the checks.
// And cross-module optimization: the server may inline the codec's and the loop's small
// functions (header lookups, socket calls) instead of calling across modules:
// 5,900 -> 5,600 instructions per `GET /poll` (Tests/Bench/perf/callgrind_perf.py).
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "WireLab",
    products: [
        .executable(name: "wirelab", targets: ["wirelab"]),
    ],
    targets: [
        // C shim: epoll, TCP_INFO and one atomic load/store, nothing else.
        .target(name: "CWireSystem"),
        // Sans-I/O codecs: bytes in -> values out. No sockets, no clocks.
        .target(name: "WireCodec", exclude: ["README.md"], swiftSettings: hotPath),
        // The event loop: Selector (epoll, poll), sockets, timers.
        .target(name: "WireLoop", dependencies: ["CWireSystem"], exclude: ["README.md"], swiftSettings: hotPath),
        // The Feed, one handler per transport, stats, the classroom page.
        .target(name: "WireServer", dependencies: ["WireCodec", "WireLoop"], exclude: ["README.md"],
                resources: [.copy("Resources")], swiftSettings: hotPath),
        // Clients per transport, accounting, reports.
        .target(name: "WireMeasure", dependencies: ["WireCodec", "WireLoop", "WireServer"], exclude: ["README.md"]),
        // The teaching kit: `inspect`, lessons, the model.
        .target(name: "WireLessons", dependencies: ["WireCodec", "WireLoop", "WireServer", "WireMeasure"]),
        // `wirelab proxy`: a network you can set (delay, jitter, bandwidth, middleboxes).
        .target(name: "WireProxy", dependencies: ["WireLoop", "WireCodec"], exclude: ["README.md"], swiftSettings: hotPath),
        // The command line.
        .executableTarget(name: "wirelab", dependencies: ["WireServer", "WireMeasure", "WireLessons", "WireProxy"]),

        .testTarget(name: "WireCodecTests", dependencies: ["WireCodec"]),
        .testTarget(name: "WireLoopTests", dependencies: ["WireLoop"]),
        .testTarget(name: "WireLessonsTests", dependencies: ["WireLessons", "WireCodec", "WireMeasure", "WireServer", "WireLoop"]),
        .testTarget(name: "WireServerTests", dependencies: ["WireServer", "WireCodec", "WireLoop"]),
        .testTarget(name: "WireProxyTests", dependencies: ["WireProxy", "WireServer", "WireCodec", "WireLoop"]),
        .testTarget(name: "WireMeasureTests", dependencies: ["WireMeasure", "WireServer", "WireCodec", "WireLoop"]),
    ]
)
