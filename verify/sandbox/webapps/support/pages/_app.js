import Release from "../../shared/release";

export default function App({ Component, pageProps }) {
  return (
    <>
      <Component {...pageProps} />
      <Release />
    </>
  );
}
