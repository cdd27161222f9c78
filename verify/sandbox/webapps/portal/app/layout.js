import Release from "../../shared/release";

export const metadata = { title: "Mobilytics portal" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        {children}
        <Release />
      </body>
    </html>
  );
}
