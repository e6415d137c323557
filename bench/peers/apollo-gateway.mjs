// Apollo Gateway for the load benchmark (bench/README.md): serves the supergraph file given
// as the first argument on the port given as the second. Install its packages first:
//   npm install --prefix bench/peers
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway } from "@apollo/gateway";

const [supergraphPath, port] = process.argv.slice(2);
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, "utf8") });
const server = new ApolloServer({ gateway, csrfPrevention: false, introspection: true });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(port) },
});
console.log(`apollo gateway at ${url}`);
