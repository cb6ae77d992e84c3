import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed documents from the committed SDL; `npm run codegen:check` (part of the build)
// fails when gql/ is not what the schema and the documents give.
const config: CodegenConfig = {
  schema: "../schema/schema.graphql",
  documents: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}", "lib/**/*.{ts,tsx}"],
  ignoreNoDocuments: false,
  generates: {
    "./gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: {
          UUID: "string",
          Date: "string",
          DateTime: "string",
          JSON: "unknown",
          Upload: "File",
        },
      },
    },
  },
};

export default config;
