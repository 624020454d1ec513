// being written
export {};
