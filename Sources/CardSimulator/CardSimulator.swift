// The CardSimulator module is being built.
