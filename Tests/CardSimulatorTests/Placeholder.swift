// CardSimulatorTests
