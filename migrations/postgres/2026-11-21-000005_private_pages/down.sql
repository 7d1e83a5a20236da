DROP TABLE private_pages;
